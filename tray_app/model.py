"""The records the core passes around. Frozen, GUI-free, boto3-free.

Records are ``typing.NamedTuple``s, not dataclasses: ``status`` builds them on every
start, and importing ``dataclasses`` (which pulls in ``inspect``) would cost it about
10 ms, a third of its run. Change one with ``record._replace(field=value)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from tray_app.hosts import RegistryRef


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    MANAGED = "managed"

    @property
    def needs_attention(self) -> bool:
        return self in (State.WARNING, State.CRITICAL, State.EXPIRED)


class FoundLogin(NamedTuple):
    """A login a source found on disk, before expiry fallbacks and profile mapping."""

    registry: RegistryRef
    source: str  # "docker-config", "docker-credential-pass", "ecr-login", "podman"
    origin: str  # the file or helper it came from, for messages
    key: str  # the key as written there (``https://host/v1/``, ``host/ns/repo``...)
    expires_at: datetime | None = None
    expiry_from: str | None = None  # "token" or "ecr-login-cache"; None: snapshot falls back
    managed: bool = False  # amazon-ecr-credential-helper fetches tokens on demand
    detail: str = ""
    profile: str | None = None  # the profile an `ecr-login-<profile>` wrapper pins


class SourceProblem(NamedTuple):
    """A file or helper that could not be read; ``message`` says what to do."""

    source: str
    message: str


class RegistryStatus(NamedTuple):
    """One login as the front ends show it: expiry, state, profile."""

    registry: RegistryRef
    source: str
    expires_at: datetime | None
    seconds_left: int | None
    state: State
    detail: str
    profile: str | None
    expiry_from: str | None = None  # "token", "app-state", "ecr-login-cache"
    # ecr-login rows: when the AWS credentials behind the helper (an SSO session) end
    credentials_expire_at: datetime | None = None
    credentials_seconds_left: int | None = None
    credentials_from: str | None = None  # "SSO session corp"

    @property
    def host(self) -> str:
        return self.registry.host

    @property
    def managed(self) -> bool:
        """Served by amazon-ecr-credential-helper: it fetches a token on every use."""
        return self.source == "ecr-login"

    @property
    def watched_seconds_left(self) -> int | None:
        """Time until this login stops working: the token's, or (managed rows) the
        credentials' behind the helper."""
        return self.credentials_seconds_left if self.managed else self.seconds_left


class SsoStatus(NamedTuple):
    """One SSO session and the profiles that use it."""

    name: str  # the sso-session name, or the start URL for legacy profiles
    start_url: str
    region: str
    expires_at: datetime | None
    seconds_left: int | None
    state: State
    refreshable: bool
    profiles: tuple[str, ...]
    legacy: bool = False


class Snapshot(NamedTuple):
    """Everything found on the machine at one moment."""

    generated_at: datetime
    registries: tuple[RegistryStatus, ...]
    sso_sessions: tuple[SsoStatus, ...]
    errors: tuple[SourceProblem, ...] = ()

    def soonest(self) -> RegistryStatus | None:
        """The watched login that stops working first (managed rows: their credentials)."""
        timed = [r for r in self.registries
                 if r.watched_seconds_left is not None and r.state != State.MANAGED]
        return min(timed, key=lambda r: r.watched_seconds_left or 0, default=None)

    def sso_for_profile(self, profile: str | None) -> SsoStatus | None:
        if profile is None:
            return None
        return next((s for s in self.sso_sessions if profile in s.profiles), None)
