"""Which token serves which login: snapshot rows grouped by (profile, service, region).

One ``GetAuthorizationToken`` answer is valid for every registry of that region the
principal may use, so each group costs one API call however many accounts it covers.
ECR Public has its own service and always lives in us-east-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tray_app.model import RegistryStatus, SsoStatus

PUBLIC_REGION = "us-east-1"


@dataclass(frozen=True)
class TokenGroup:
    profile: str | None  # None: boto3's default credential chain
    service: str  # "ecr" or "ecr-public"
    region: str
    rows: tuple[RegistryStatus, ...]

    @property
    def key(self) -> tuple[str | None, str, str]:
        return (self.profile, self.service, self.region)


def profile_label(profile: str | None) -> str:
    return f"profile {profile}" if profile else "the default profile"


def group_rows(rows: Sequence[RegistryStatus], profile_override: str | None = None
               ) -> list[TokenGroup]:
    """Groups in first-seen order; ``profile_override`` (``--profile``) wins over the row's."""
    grouped: dict[tuple[str | None, str, str], list[RegistryStatus]] = {}
    for row in rows:
        profile = profile_override or row.profile
        if row.registry.public:
            key = (profile, "ecr-public", PUBLIC_REGION)
        else:
            key = (profile, "ecr", row.registry.region)
        grouped.setdefault(key, []).append(row)
    return [TokenGroup(profile, service, region, tuple(members))
            for (profile, service, region), members in grouped.items()]


def short_of_time(rows: Sequence[RegistryStatus], seconds: int,
                  sso_sessions: Sequence[SsoStatus] = ()) -> list[RegistryStatus]:
    """The logins that will not last ``seconds`` more, by the local files alone.

    A token login: its own expiry, and one whose expiry is unknown (renewing it records
    one). An ecr-login login fetches tokens itself: it lasts while the AWS session behind
    it does (an SSO session that renews itself lasts; one not signed in does not)."""
    return [row for row in rows if _short_of_time(row, seconds, sso_sessions)]


def known_short_of_time(rows: Sequence[RegistryStatus], seconds: int,
                        sso_sessions: Sequence[SsoStatus] = ()) -> list[RegistryStatus]:
    """``short_of_time`` counting only known ends: after a renewal, the logins that still
    will not last (an SSO session shorter than asked; a --min beyond what AWS gives)."""
    return [row for row in rows if _short_of_time(row, seconds, sso_sessions, unknown=False)]


def _short_of_time(row: RegistryStatus, seconds: int, sso_sessions: Sequence[SsoStatus],
                   unknown: bool = True) -> bool:
    if not row.managed:
        left = row.seconds_left
    else:
        session = next((s for s in sso_sessions if row.profile in s.profiles), None)
        if session is None or session.refreshable:
            return False
        left = session.seconds_left
    return unknown if left is None else left < seconds
