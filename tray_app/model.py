"""The records the core passes around. Frozen, GUI-free, boto3-free."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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


@dataclass(frozen=True)
class KubeSecretRef:
    """Where a Kubernetes pull secret lives (rows with source ``kubernetes``)."""

    context: str
    namespace: str
    secret: str
    create_if_missing: bool = field(default=False, compare=False)  # `kube secret` only

    @property
    def label(self) -> str:
        return f"{self.context} {self.namespace}/{self.secret}"


@dataclass(frozen=True)
class FoundLogin:
    """A login a source found on disk, before expiry fallbacks and profile mapping."""

    registry: RegistryRef
    source: str  # "docker-config", "docker-credential-pass", "ecr-login", "podman"
    origin: str  # the file or helper it came from, for messages
    key: str  # the key as written there (``https://host/v1/``, ``host/ns/repo``...)
    expires_at: datetime | None = None
    expiry_from: str | None = None  # "token" or "ecr-login-cache"; None: snapshot falls back
    managed: bool = False  # amazon-ecr-credential-helper fetches tokens on demand
    detail: str = ""
    kubernetes: KubeSecretRef | None = None  # source "kubernetes": which secret


@dataclass(frozen=True)
class SourceProblem:
    """A file or helper that could not be read; ``message`` says what to do."""

    source: str
    message: str


@dataclass(frozen=True)
class RegistryStatus:
    """One login as the front ends show it: expiry, state, profile."""

    registry: RegistryRef
    source: str
    expires_at: datetime | None
    seconds_left: int | None
    state: State
    detail: str
    profile: str | None
    expiry_from: str | None = None  # "token", "app-state", "ecr-login-cache"
    kubernetes: KubeSecretRef | None = None  # source "kubernetes": which secret

    @property
    def host(self) -> str:
        return self.registry.host

    @property
    def identity(self) -> tuple:
        """One login: (host, store), plus the secret for a Kubernetes one."""
        if self.kubernetes is None:
            return (self.registry.host, self.source)
        return (self.registry.host, self.source, self.kubernetes)

    @property
    def where(self) -> str:
        """The store, for messages: ``docker-config``, ``kubernetes kind-dev default/s``."""
        return f"{self.source} {self.kubernetes.label}" if self.kubernetes else self.source


@dataclass(frozen=True)
class SsoStatus:
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


@dataclass(frozen=True)
class Snapshot:
    """Everything found on the machine at one moment."""

    generated_at: datetime
    registries: tuple[RegistryStatus, ...]
    sso_sessions: tuple[SsoStatus, ...]
    errors: tuple[SourceProblem, ...] = ()
    notices: tuple[SourceProblem, ...] = ()  # quiet facts (a stopped cluster); not errors

    def soonest(self) -> RegistryStatus | None:
        """The watched (non-managed) login that expires first."""
        timed = [r for r in self.registries
                 if r.seconds_left is not None and r.state != State.MANAGED]
        return min(timed, key=lambda r: r.seconds_left or 0, default=None)

    def sso_for_profile(self, profile: str | None) -> SsoStatus | None:
        if profile is None:
            return None
        return next((s for s in self.sso_sessions if profile in s.profiles), None)
